//go:build linux

package rootless

import (
	"strings"

	"github.com/sirupsen/logrus"
)

func trace(format string, a ...any) {
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("+ "+format, a...)
	}
}

func join(args []string) string { return strings.Join(args, " ") }
