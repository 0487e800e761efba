package state

import (
	"fmt"
	"strings"
	"time"
)

// HumanDuration is how `docker ps` says how long ago: "3 seconds",
// "About a minute", "2 hours".
func HumanDuration(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	case d.Minutes() < 2:
		return "About a minute"
	case d.Minutes() < 60:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d.Hours() < 2:
		return "About an hour"
	case d.Hours() < 48:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d.Hours() < 24*14:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return fmt.Sprintf("%d weeks", int(d.Hours()/24/7))
}

// ShortCommand is the COMMAND column: quoted, cut to 20 characters.
func ShortCommand(args []string) string {
	s := strings.Join(args, " ")
	if r := []rune(s); len(r) > 20 {
		s = string(r[:19]) + "…"
	}
	return `"` + s + `"`
}
