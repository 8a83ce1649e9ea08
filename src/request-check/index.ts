/**
 * The check a proxy asks for on every request (nginx auth_request, HAProxy, Envoy ext_authz,
 * Traefik ForwardAuth): the carried ObjectiveConfig judged, and the answer a proxy acts on —
 * allow, retry elsewhere, or refuse. Pure; the HTTP listener is in `api`.
 * @module
 */
export {
  answerCarrier,
  answerUnchecked,
  answerVerdict,
  CHECK_HEADERS,
  type CheckAnswer,
  type CheckVerdict,
  REFUSAL_KIND,
  type RefusalKind,
} from './check-answer.ts';
export { type CheckInput, type CheckSettings, checkRequest, type Judge } from './check-request.ts';
export { type CheckCounts, CheckTally } from './check-tally.ts';
export {
  HEADER_MEMO_SIZE,
  memoizedHeaderReader,
  type ObjectiveHeaderReader,
} from './header-memo.ts';
export { MAX_REFUSED_KEYS, REFUSAL_WINDOW_MS, RefusalWindow } from './refusal-window.ts';
