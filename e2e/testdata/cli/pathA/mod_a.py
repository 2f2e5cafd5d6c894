NAME = "mod_a"
