"""`python -m <package>.serve`: run the service (see server.py for the options)."""

from .server import main

main()
