"""From a request's ``model`` to the models that serve it, and serving it from them.

The config, plans, routing policies (static, by length, learned), verifiers, and the executor that falls back
across upstreams and escalates across models.
"""
