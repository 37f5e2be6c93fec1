"""The gateway's HTTP surface: the ASGI app and its request path, and the server that runs it.

Admission (key, body, plan, reservation), the admitted request (served, billed, counted), worker processes and
connection limits.
"""
