from omar_cli.cli.app import main

main()
