"""File imports: the one place where uploaded and command-line files are read (see `readers`)."""
