import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseGeneric,
  parseOpenAiModels,
  parseSglangModelInfo,
  parseTgiInfo,
  parseTritonIndex,
  vllmErrorMessage,
  withSglangModelInfo,
} from '../../src/inventory/index.ts';

const fixture = (name: string) =>
  readFileSync(join(import.meta.dir, '../fixtures/model-apis', name), 'utf8');

describe('vLLM and SGLang GET /v1/models (real captures)', () => {
  test('vLLM with a LoRA adapter: the adapter names its base and its own root', () => {
    expect(
      parseOpenAiModels(fixture('vllm-v1_models-lora-llmariner-inference-manager.json')),
    ).toEqual({
      ok: true,
      models: [
        {
          name: 'meta-llama-Llama-3.2-1B-Instruct',
          state: 'ready',
          root: '/models/meta-llama-Llama-3.2-1B-Instruct',
          maxContextTokens: 131072,
        },
        {
          name: 'meta-llama-Llama-3.2-1B-Instruct:fine-tuning-lOdIbZE88Q',
          state: 'ready',
          root: '/models/ft:meta-llama-Llama-3.2-1B-Instruct:fine-tuning-lOdIbZE88Q',
          parent: 'meta-llama-Llama-3.2-1B-Instruct',
        },
      ],
    });
  });

  test('vLLM 0.4 (no max_model_len), 0.6 and a 2026 build', () => {
    expect(
      parseOpenAiModels(fixture('vllm-v1_models-plain-self-llm-qwen1.5-vllm0.4.0.post1.json')),
    ).toMatchObject({
      ok: true,
      models: [{ name: expect.any(String), state: 'ready' }],
    });
    const v06 = parseOpenAiModels(
      fixture('vllm-v1_models-plain-self-llm-qwen2.5-vllm0.6.1.post2.json'),
    );
    expect(v06).toEqual({
      ok: true,
      models: [
        {
          name: 'Qwen2.5-7B-Instruct',
          state: 'ready',
          root: 'Qwen2.5-7B-Instruct',
          maxContextTokens: 2048,
        },
      ],
    });
    const kimi = parseOpenAiModels(fixture('vllm-v1_models-plain-self-llm-kimi-k2.5.json'));
    expect(kimi.ok && kimi.models.length).toBe(1);
  });

  test('SGLang 0.5 with parent, an older one without, and the model-hotel listing', () => {
    for (const name of [
      'sglang-v1_models-self-llm-qwen3.5-sglang0.5.13.post1.json',
      'sglang-v1_models-self-llm-hunyuan-a13b.json',
      'sglang-v1_models-model-hotel.json',
    ]) {
      const parsed = parseOpenAiModels(fixture(name));
      expect(parsed.ok).toBe(true);
      if (parsed.ok) for (const m of parsed.models) expect(m.parent).toBeUndefined();
    }
    expect(parseOpenAiModels(fixture('sglang-v1_models-model-hotel.json'))).toEqual({
      ok: true,
      models: [{ name: 'qwen3-0.6b', state: 'ready', root: 'qwen3-0.6b', maxContextTokens: 8192 }],
    });
  });
});

describe('SGLang GET /get_model_info (real captures)', () => {
  test('0.4.6: path and generation; 0.5.6: weight_version "default" is no revision', () => {
    expect(
      parseSglangModelInfo(fixture('sglang-get_model_info-sglang-docs-notebook-0.4.6.post1.json')),
    ).toMatchObject({
      ok: true,
      info: { kind: 'generation' },
    });
    expect(
      parseSglangModelInfo(fixture('sglang-get_model_info-sglang-docs-notebook-0.5.6.post2.json')),
    ).toEqual({
      ok: true,
      info: { modelPath: 'qwen/qwen2.5-0.5b-instruct', kind: 'generation' },
    });
    expect(parseSglangModelInfo(fixture('sglang-get_model_info-model-hotel.json')).ok).toBe(true);
  });

  test('adds the path, kind and a real weight version to base models only', () => {
    const merged = withSglangModelInfo(
      [
        { name: 'base', state: 'ready' },
        { name: 'lora', state: 'ready', parent: 'base', root: '/a' },
      ],
      { modelPath: '/m/base', kind: 'generation', weightVersion: 'step-1200' },
    );
    expect(merged).toEqual([
      { name: 'base', state: 'ready', root: '/m/base', kind: 'generation', revision: 'step-1200' },
      { name: 'lora', state: 'ready', parent: 'base', root: '/a' },
    ]);
  });
});

describe('TGI GET /info (real captures)', () => {
  test('1.3.4: model_id, model_sha as the revision, max_total_tokens, server version', () => {
    expect(
      parseTgiInfo(fixture('tgi-info-issue-huggingface-text-generation-inference-1402.json')),
    ).toEqual({
      ok: true,
      models: [
        {
          name: 'mistralai/Mistral-7B-Instruct-v0.2',
          root: 'mistralai/Mistral-7B-Instruct-v0.2',
          state: 'ready',
          revision: 'b70aa86578567ba3301b21c8a27bea4e8f6d6d61',
          maxContextTokens: 2048,
        },
      ],
      server: 'tgi 1.3.4',
    });
  });

  test('2.0.2: model_sha null means no revision is known', () => {
    const parsed = parseTgiInfo(fixture('tgi-info-huggingface_hub-docstring-2.0.2.json'));
    expect(parsed).toMatchObject({ ok: true, server: 'tgi 2.0.2' });
    if (parsed.ok) expect(parsed.models[0]?.revision).toBeUndefined();
  });
});

describe('Triton POST /v2/repository/index', () => {
  // Built from the KServe v2 / Triton model-repository extension (no licensed capture exists).
  const index = JSON.stringify([
    { name: 'question_answering', version: '1', state: 'READY' },
    { name: 'question_answering', version: '2', state: 'LOADING' },
    { name: 'ensemble', version: '3', state: 'UNAVAILABLE', reason: 'load failed: out of memory' },
    { name: 'old', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
    { name: 'in_repository_only' },
  ]);
  test('each version an entry; unloaded and never-loaded models left out', () => {
    expect(parseTritonIndex(index)).toEqual({
      ok: true,
      models: [
        { name: 'question_answering', state: 'ready', revision: '1' },
        { name: 'question_answering', state: 'loading', revision: '2' },
        {
          name: 'ensemble',
          state: 'unavailable',
          revision: '3',
          reason: 'load failed: out of memory',
        },
      ],
    });
  });
  test('an unknown state is refused, naming it', () => {
    expect(parseTritonIndex('[{"name":"m","state":"ON_FIRE"}]')).toEqual({
      ok: false,
      error: 'POST /v2/repository/index: [0] has unknown state "ON_FIRE"',
    });
  });
});

describe('generic JSON answers', () => {
  test('Ollama /api/ps read with pointers (a real capture from the shared fixtures)', () => {
    const body = readFileSync(
      join(
        import.meta.dir,
        '../fixtures/model-apis-generic/ollama-api_ps-issue-nirmato-nirmato-ollama-13.json',
      ),
      'utf8',
    );
    expect(
      parseGeneric(body, { list: '/models', name: '/name', revision: '/digest' }, 'ollama'),
    ).toEqual({
      ok: true,
      models: [
        {
          name: 'gemma3:latest',
          state: 'ready',
          revision: 'a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a',
        },
      ],
    });
  });
  test('a pointer that leads nowhere is named', () => {
    expect(parseGeneric('{"x":[]}', { list: '/models', name: '/name' }, 'http://h/x')).toEqual({
      ok: false,
      error: 'http://h/x: "/models" is not a list in the answer',
    });
  });
});

describe('vLLM LoRA load and unload errors (real bodies)', () => {
  test('both shapes give the type and the message', () => {
    expect(vllmErrorMessage(fixture('vllm-load_lora_adapter-error-404-kubeai.json'))).toBe(
      'NotFoundError: Call to add_lora method failed: Loading lora sql_adapter failed: No adapter found for /path/to/sql-lora-adapter',
    );
    expect(vllmErrorMessage(fixture('vllm-unload_lora_adapter-error-400-kubeai.json'))).toBe(
      "InvalidUserInput: The lora adapter 'xyzabc' cannot be found.",
    );
    expect(vllmErrorMessage('Internal Server Error')).toBe('Internal Server Error');
  });
});

describe('hostile answers never throw and say what was wrong', () => {
  const parsers = {
    openai: (b: string) => parseOpenAiModels(b),
    tgi: (b: string) => parseTgiInfo(b),
    triton: (b: string) => parseTritonIndex(b),
    generic: (b: string) => parseGeneric(b, { list: '/data', name: '/id' }, 'generic'),
  };
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  const bodies: Array<[string, string, RegExp]> = [
    ['garbage', 'not json at all', /is not JSON/],
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>', /is not JSON/],
    ['deep nesting', `{"data":${deep}}`, /deeper|nesting|depth/i],
    ['a forbidden key', '{"data":[{"id":"m","__proto__":{"x":1}}]}', /forbidden|__proto__/],
    ['the wrong shape', '{"data":"all of them"}', /./],
    ['null', 'null', /./],
    ['an entry without a name', '{"data":[{"id":""}],"model_id":7}', /./],
    [
      'too many entries',
      JSON.stringify({ data: Array(10_001).fill({ id: 'm' }) }),
      /10001|at most|no usable|not a list/,
    ],
  ];
  for (const [name, body, message] of bodies) {
    test(name, () => {
      for (const parse of Object.values(parsers)) {
        const parsed = parse(body);
        expect(parsed.ok).toBe(false);
        if (!parsed.ok) expect(parsed.error).toMatch(message);
      }
    });
  }
});
