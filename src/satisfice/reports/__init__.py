"""Renderers: values in, text or bytes out."""
