from dl_suite.cli.main import main

raise SystemExit(main())
