package desired

// The structure limit of Parse, for the tests that build the largest
// files it lets through.
var (
	MaxFileMarks = maxFileMarks
	Marks        = marks
)
