"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask CLI."""
import sys

from config import ConfigError
from portal import create_app

try:
    app = create_app()
except ConfigError as error:
    # A clear refusal, not a traceback: the message names the wrong setting.
    print(error, file=sys.stderr)
    sys.exit(2)
