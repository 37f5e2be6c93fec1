"""Self-host economics: measure a served model's throughput, turn it into USD per million tokens, compare with APIs.

``driver`` keeps requests in flight and times every token; ``http_stream`` / ``local_stream`` send them;
``economics`` turns samples into figures and prices; ``bench`` runs a whole benchmark; ``calibration`` saves a
result as a dated self-hosted offer in the catalog; ``compare`` weighs the annual bill against API offers.
Nothing here starts GPU servers: a vLLM or SGLang deployment is benchmarked at its URL.
"""
