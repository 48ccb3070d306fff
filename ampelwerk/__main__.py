from ampelwerk.cli import main

raise SystemExit(main())
