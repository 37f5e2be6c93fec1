from satisfice.cli import main

main()
