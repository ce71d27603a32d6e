package xctask

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// SecretsDir is where the runner puts the secrets a task image declares (the
// convention of Docker and Swarm secrets); XC_TASK_SECRETS_DIR moves it, for a
// task run outside a container.
const SecretsDir = "/run/secrets"

var secretName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?$`)

// Secret is the secret the runner gives the task's image under name, as text,
// surrounding whitespace (a final newline) removed; an error when the image is
// given no such secret.
func Secret(name string) (string, error) {
	if !secretName.MatchString(name) || strings.Contains(name, "..") {
		return "", fmt.Errorf("not a secret name: %q", name)
	}
	dir := os.Getenv("XC_TASK_SECRETS_DIR")
	if dir == "" {
		dir = SecretsDir
	}
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("secret '%s' is not given to this task (no %s): the runner's "+
			"configuration declares an image's secrets", name, path)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// Secret is the package's Secret, for a task's convenience.
func (t *Task) Secret(name string) (string, error) {
	return Secret(name)
}
