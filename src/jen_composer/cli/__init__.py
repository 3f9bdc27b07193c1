"""The `jen-composer` command line: one module per subcommand group, registered in main.py."""
