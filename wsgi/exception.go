package wsgi

// Exception is a Python exception as the --debug page shows it. pyhost
// fills it from pyhost/devtraceback.py's JSON, hence the tags.
type Exception struct {
	Type    string  `json:"type"`    // "ValueError", "myapp.errors.Oops"; "" for wsgo's own load errors
	Message string  `json:"message"` // str(exc); a SyntaxError's msg
	Note    string  `json:"note"`    // wsgo's advice (a load error's fix), or ""
	Frames  []Frame `json:"frames"`  // outermost first, wsgo's loader left out
	Syntax  *Syntax `json:"syntax"`  // where a SyntaxError points, or nil
	// Cause is the exception this one was raised from (CauseExplicit:
	// `raise ... from`) or while handling, or nil.
	Cause         *Exception `json:"cause"`
	CauseExplicit bool       `json:"cause_explicit"`
}

// Frame is one frame of a traceback.
type Frame struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Function string `json:"function"`
	// Source holds the lines around Line, the first numbered FirstLine;
	// empty when the file cannot be read.
	FirstLine int      `json:"first_line"`
	Source    []string `json:"source"`
	// Col and EndCol are the failing expression's columns on Line
	// (Python 3.11+), or nil.
	Col    *int `json:"col"`
	EndCol *int `json:"end_col"`
	// Own is the app's own code, not the standard library's nor an
	// installed package's.
	Own    bool        `json:"own"`
	Locals [][2]string `json:"locals"` // name, shortened repr
	// Repeated counts the times this frame came again right after it
	// (recursion), left out.
	Repeated int `json:"repeated"`
}

// Syntax is where a SyntaxError points.
type Syntax struct {
	File      string   `json:"file"`
	Line      int      `json:"line"`
	Offset    int      `json:"offset"`     // 1-based column of the caret; 0 unknown
	EndOffset int      `json:"end_offset"` // 1-based column after the error; 0 unknown
	Text      string   `json:"text"`
	FirstLine int      `json:"first_line"`
	Source    []string `json:"source"`
}
