"""``python -m hotspots`` runs the command line."""

from hotspots.cli import main

if __name__ == "__main__":
    main()
