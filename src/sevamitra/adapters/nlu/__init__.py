"""The assistant's understanding of free text: romanisation, lexical routing, optional embeddings and
an optional OpenAI-compatible re-ranker."""
