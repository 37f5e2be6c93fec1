"""The client APIs beyond chat completions: Anthropic Messages, OpenAI Responses and embeddings.

Their requests, their translation to and from chat, their upstream calls, and the streaming relay they share with
chat completions.
"""
