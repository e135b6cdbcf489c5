"""``python -m ids_desktop`` starts the app."""

from ids_desktop.app import main

raise SystemExit(main())
