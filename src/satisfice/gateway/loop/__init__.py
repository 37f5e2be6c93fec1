"""The production loop: what happens to served answers after they are served.

Feedback, outcomes, shadow checks, guarded experiments with their sequential rule, drift alarms and the outcome
export.
"""
