import sys

from stagewise.tools.demo.play import main

sys.exit(main())
