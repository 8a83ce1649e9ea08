/**
 * Rule sets can be authored as code: the default export (an object, or a function returning
 * one) is linted and published as JSON by `filament rules publish examples/rules/acme.v2.ts`.
 * Version 2 of acme: a canary of a newer llama 8B build takes 5 % of chat-default.
 */
import v1 from './acme.v1.json' with { type: 'json' };

const canary = {
  id: 'llama-3.1-8b-instruct-2026-11',
  version: '2026-11-18',
  routingKey: 'acme.chat.llama-8b-canary',
  cluster: 'gpu-east',
  schemaId: 'chat-completions/v1',
};

export default {
  ...v1,
  version: 2,
  issuedAt: '2026-11-22T09:00:00Z',
  description: 'acme v2: 5 % canary of the November llama 8B build on chat-default.',
  models: [...v1.models, canary],
  objectives: v1.objectives.map((objective) =>
    objective.id === 'chat-default'
      ? { ...objective, canary: [{ model: canary.id, percent: 5 }] }
      : objective,
  ),
};
