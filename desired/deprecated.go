package desired

import "github.com/seed8b9e94f4/unleashadmin"

// The names below are the package's old names, kept so that code written
// against them still compiles and works the same.

// Kind is the old name of ActionKind.
//
// Deprecated: use ActionKind.
type Kind = ActionKind

// The old names of the action kinds.
const (
	// Deprecated: use ActionCreate.
	Create = ActionCreate
	// Deprecated: use ActionRotate.
	Rotate = ActionRotate
	// Deprecated: use ActionReplace.
	Replace = ActionReplace
	// Deprecated: use ActionRetire.
	Retire = ActionRetire
	// Deprecated: use ActionKeep.
	Keep = ActionKeep
)

// Outcome is the old name of ActionResult.
//
// Deprecated: use ActionResult.
type Outcome = ActionResult

// Prune is the old name of PruneRule.
//
// Deprecated: use PruneRule.
type Prune = PruneRule

// DefaultParallel is how many entries Apply works on at once when
// ApplyOptions.Parallel is zero.
//
// Deprecated: use unleashadmin.DefaultParallel.
const DefaultParallel = unleashadmin.DefaultParallel

// The errors that moved into the core, kept here under their old names.
var (
	// ErrUndeliveredLive is matched, together with
	// unleashadmin.ErrNotDelivered, by the error of an action whose new
	// token could not be delivered and then could not be deleted either:
	// it is live, and only ActionResult.New holds its secret. It is the
	// core's sentinel, the same value: errors.Is matches either name.
	//
	// Deprecated: use unleashadmin.ErrUndeliveredLive.
	ErrUndeliveredLive = unleashadmin.ErrUndeliveredLive
)
