/**
 * HAProxy's agent-check, answered from this replica's saturation: a weight that falls as the
 * score rises (with a floor), `drain` while draining, `down` with the reason when it cannot serve.
 * @module
 */
export {
  type AgentReplyOptions,
  agentReply,
  DEFAULT_AGENT_REPLY,
  weight,
} from './agent-reply.ts';
export { AgentServer, type AgentServerOptions } from './agent-server.ts';
