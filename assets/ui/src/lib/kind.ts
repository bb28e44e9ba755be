// What a model is for, as the engine reads it from the model's files
// (engine.ModelInfo.Kind): chat models generate text, embedding models
// answer /v1/embeddings, rerankers /v1/rerank.
export type ModelKind = 'chat' | 'embedding' | 'reranker'

// kindOf is the model's kind; a server that does not say is one from before
// kinds existed, when every model was a chat model.
export function kindOf(m: { kind?: string }): ModelKind {
  return m.kind === 'embedding' || m.kind === 'reranker' ? m.kind : 'chat'
}

// kindHint tells what to call a model of this kind with.
export function kindHint(kind: ModelKind): string {
  switch (kind) {
    case 'embedding':
      return 'An embedding model: use it with /v1/embeddings or Ollama’s /api/embed'
    case 'reranker':
      return 'A reranker (cross-encoder): use it with /v1/rerank'
    default:
      return 'A chat model'
  }
}
