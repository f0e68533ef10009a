/**
 * Text generation and embeddings inside a worker process: Hugging Face tokenizers and chat
 * templates, OpenAI sampling parameters, a continuous-batching decode loop over a decoder with a
 * KV cache, and pooled sentence embeddings. Every class here is used by one thread (the worker's
 * ONNX Runtime thread, created with a large stack) and never touches a Vert.x event loop. The
 * model layout these classes expect is described in {@code docs/TEXT_MODELS.md}.
 */
package io.inferium.functions.generation;
