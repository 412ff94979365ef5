from simcore.app.cli.main import main

main()
