NAME = "mod_b"
