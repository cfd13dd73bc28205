from doctown.cli import main

main()
