"""The report aggregate: submission, sealing (the one place content is
encrypted), keys and access, reading, the dialogue, the handler's work and
workflow, the inbox, grants, export, stories and form tokens."""
