"""Per-request routing: learn, certify, save and evaluate policies that send each request to a model.

Routing knows outcomes and prompts, never HTTP: the gateway loads a trained router and asks it for a plan.
"""
