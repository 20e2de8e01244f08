from sessionhub.cli import main

main()
