"""How the organisation is set up: channels of handlers and where reports go,
units, and the texts shown to reporters."""
