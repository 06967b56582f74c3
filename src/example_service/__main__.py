from example_service.cli import main

main()
