package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	microgw "github.com/micro-gw/micro-gw"
)

func newVersionCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the micro-gw version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(s.out, "micro-gw %s (%s, %s/%s)\n", microgw.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
