def message():
    return "from sibling_helper\n"
