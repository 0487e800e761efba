//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/minidocker/build-your-own-docker/final/api/types"
	"github.com/minidocker/build-your-own-docker/final/engine"
	"github.com/urfave/cli/v2"
)

func networkCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "create", Usage: "create a bridge network", ArgsUsage: "NAME", Action: networkCreateCmd, Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "bridge", Usage: "only bridge"},
			&cli.StringFlag{Name: "subnet", Usage: "the network's range, e.g. 172.30.0.0/16 (default: a free /16)"},
			&cli.StringFlag{Name: "gateway", Usage: "the bridge's address (default: the first of the subnet)"},
			&cli.StringSliceFlag{Name: "label", Usage: "a label K=V"},
		}},
		{Name: "ls", Aliases: []string{"list"}, Usage: "list networks", Action: networkLsCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only ids"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "name=, label=, driver="},
		}},
		{Name: "inspect", Usage: "a network as JSON", ArgsUsage: "NETWORK...", Action: networkInspectCmd},
		{Name: "rm", Aliases: []string{"remove"}, Usage: "remove networks (not while containers use them)", ArgsUsage: "NETWORK...", Action: networkRmCmd},
		{Name: "connect", Usage: "put a created container on a network", ArgsUsage: "NETWORK CONTAINER", Action: networkConnectCmd, Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "alias", Usage: "another name the container answers to"},
		}},
		{Name: "disconnect", Usage: "take a created container off a network", ArgsUsage: "NETWORK CONTAINER", Action: networkDisconnectCmd},
	}
}

func labels(kvs []string) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func networkCreateCmd(c *cli.Context) error {
	if err := needArgs(c, 1, "network create [--subnet CIDR] [--gateway IP] NAME"); err != nil {
		return err
	}
	req := types.NetworkCreateRequest{Name: c.Args().First(), Driver: c.String("driver"), Labels: labels(c.StringSlice("label"))}
	if s := c.String("subnet"); s != "" || c.String("gateway") != "" {
		req.IPAM = &types.IPAM{Driver: "default", Config: []types.IPAMConfig{{Subnet: s, Gateway: c.String("gateway")}}}
	}
	resp, err := eng.NetworkCreate(ctx, req)
	if err != nil {
		return err
	}
	fmt.Println(resp.ID)
	return nil
}

func networkLsCmd(c *cli.Context) error {
	nets, err := eng.NetworkList(ctx, engine.ListOptions{Filters: filterFlags(c)})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	if !c.Bool("quiet") {
		fmt.Fprintln(w, "NETWORK ID\tNAME\tDRIVER\tSCOPE")
	}
	for _, n := range nets {
		if c.Bool("quiet") {
			fmt.Fprintln(w, n.ID[:12])
		} else {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", n.ID[:12], n.Name, n.Driver, n.Scope)
		}
	}
	return w.Flush()
}

func networkInspectCmd(c *cli.Context) error {
	var out []*types.NetworkResource
	err := each(c, "network inspect NETWORK...", func(ref string) error {
		n, err := eng.NetworkInspect(ctx, ref)
		if err == nil {
			out = append(out, n)
		}
		return err
	})
	if len(out) > 0 {
		b, _ := json.MarshalIndent(out, "", "    ")
		fmt.Println(string(b))
	}
	return err
}

func networkRmCmd(c *cli.Context) error {
	return each(c, "network rm NETWORK...", func(ref string) error {
		if err := eng.NetworkRemove(ctx, ref); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

func networkConnectCmd(c *cli.Context) error {
	if err := needArgs(c, 2, "network connect [--alias NAME] NETWORK CONTAINER"); err != nil {
		return err
	}
	return eng.NetworkConnect(ctx, c.Args().Get(0), types.NetworkConnectRequest{Container: c.Args().Get(1),
		EndpointConfig: &types.EndpointSettings{Aliases: c.StringSlice("alias")}})
}

func networkDisconnectCmd(c *cli.Context) error {
	if err := needArgs(c, 2, "network disconnect NETWORK CONTAINER"); err != nil {
		return err
	}
	return eng.NetworkDisconnect(ctx, c.Args().Get(0), types.NetworkConnectRequest{Container: c.Args().Get(1)})
}

func volumeCommands() []*cli.Command {
	return []*cli.Command{
		{Name: "create", Usage: "create a volume", ArgsUsage: "[NAME]", Action: volumeCreateCmd, Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "label", Usage: "a label K=V"},
		}},
		{Name: "ls", Aliases: []string{"list"}, Usage: "list volumes", Action: volumeLsCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only names"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "name=, label=, dangling="},
		}},
		{Name: "inspect", Usage: "a volume as JSON", ArgsUsage: "VOLUME...", Action: volumeInspectCmd},
		{Name: "rm", Aliases: []string{"remove"}, Usage: "remove volumes (not while containers use them)", ArgsUsage: "VOLUME...", Action: volumeRmCmd, Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}},
		}},
	}
}

func volumeCreateCmd(c *cli.Context) error {
	v, err := eng.VolumeCreate(ctx, types.VolumeCreateRequest{Name: c.Args().First(), Labels: labels(c.StringSlice("label"))})
	if err != nil {
		return err
	}
	fmt.Println(v.Name)
	return nil
}

func volumeLsCmd(c *cli.Context) error {
	vs, err := eng.VolumeList(ctx, engine.ListOptions{Filters: filterFlags(c)})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 10, 1, 3, ' ', 0)
	if !c.Bool("quiet") {
		fmt.Fprintln(w, "DRIVER\tVOLUME NAME")
	}
	for _, v := range vs.Volumes {
		if c.Bool("quiet") {
			fmt.Fprintln(w, v.Name)
		} else {
			fmt.Fprintf(w, "%s\t%s\n", v.Driver, v.Name)
		}
	}
	return w.Flush()
}

func volumeInspectCmd(c *cli.Context) error {
	var out []*types.Volume
	err := each(c, "volume inspect VOLUME...", func(name string) error {
		v, err := eng.VolumeInspect(ctx, name)
		if err == nil {
			out = append(out, v)
		}
		return err
	})
	if len(out) > 0 {
		b, _ := json.MarshalIndent(out, "", "    ")
		fmt.Println(string(b))
	}
	return err
}

func volumeRmCmd(c *cli.Context) error {
	return each(c, "volume rm VOLUME...", func(name string) error {
		if err := eng.VolumeRemove(ctx, name, c.Bool("force")); err != nil {
			return err
		}
		fmt.Println(name)
		return nil
	})
}
