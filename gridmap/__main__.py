from gridmap.cli import main

main()
