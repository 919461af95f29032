from polyterm.cli import main

main()
