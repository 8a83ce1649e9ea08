/**
 * Rule sets can be authored as code: the default export (an object, or a function returning
 * one) is linted and published as JSON by `filament rules publish examples/rules/acme.v2.ts`.
 * Version 2 of acme: a canary of a newer llama 8B build takes 5 % of chat-default, and a support
 * assistant served by a LoRA adapter of llama 8B.
 */
import v1 from './acme.v1.json' with { type: 'json' };

const canary = {
  id: 'llama-3.1-8b-instruct-2026-11',
  version: '2026-11-18',
  routingKey: 'acme.chat.llama-8b-canary',
  cluster: 'gpu-east',
  schemaId: 'chat-completions/v1',
};

// acme's support assistant: a LoRA adapter on llama 8B. vLLM lists it under `acme-support` with the
// base as its parent and the adapter's path as its root; another tenant's adapter of the same
// name would have another root, and is refused.
const support = {
  id: 'llama-8b-support',
  version: '3',
  routingKey: 'acme.chat.support',
  cluster: 'gpu-east',
  schemaId: 'chat-completions/v1',
  served: {
    name: 'acme-support',
    adapterOf: 'llama-3.1-8b-instruct',
    source: '/adapters/acme/support-v3',
  },
};

export default {
  ...v1,
  version: 2,
  issuedAt: '2026-11-22T09:00:00Z',
  description:
    'acme v2: 5 % canary of the November llama 8B build on chat-default; the support adapter.',
  models: [...v1.models, canary, support],
  objectives: [
    ...v1.objectives.map((objective) =>
      objective.id === 'chat-default'
        ? { ...objective, canary: [{ model: canary.id, percent: 5 }] }
        : objective,
    ),
    { id: 'support', defaultModel: support.id, fallback: ['llama-3.1-8b-instruct'] },
  ],
};
