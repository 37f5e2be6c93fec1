"""The gateway's wire: provider calls with their circuit breakers, request bodies read and checked, replies.

Nothing here knows routes, money or the app; every other part of the gateway builds on it.
"""
