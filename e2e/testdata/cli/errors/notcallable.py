application = "not an app"
