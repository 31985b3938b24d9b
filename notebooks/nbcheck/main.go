// Command nbcheck backs the Makefile's notebook targets:
//
//	nbcheck model [-scale S] NAME is the model available (cached, downloadable, or tiny)?
//	                              Downloads it when missing and the hub is reachable; fails
//	                              with the loader's error and the offline command otherwise.
//	                              Before that, resolves the scale (S, else $ACTADD_SCALE; tiny
//	                              runs quick) and checks the figures folder ($ACTADD_FIGURES,
//	                              else figures/, figures/stand-in/ for tiny) is writable; prints
//	                              one line saying what the notebooks will run.
//	nbcheck run NOTEBOOK.ipynb    did every code cell of an executed notebook (written by
//	                              `jupyter nbconvert --execute --allow-errors`) run without error?
//	                              On failure prints the failing cell's output, not a traceback.
//	nbcheck figures [-model M] DIR NAME...
//	                              does DIR hold, for every NAME, one set of NAME.png (a PNG),
//	                              NAME.svg (an SVG), NAME.pdf (a PDF) and the sidecar NAME.json
//	                              that records their SHA-256 (files of another run, or of an
//	                              interrupted save, are reported), names the model (with
//	                              -model tiny, marked as the tiny stand-in) and the method of the
//	                              95% intervals its series carry? With no NAME, at least one
//	                              figure must be there, and every figure found is checked.
//	nbcheck clean NOTEBOOK.ipynb...
//	                              are the notebooks, as git would commit them (the index, for
//	                              tracked files: a person's autosaved outputs in the working
//	                              copy do not count), valid nbformat 4 for the GoNB kernel
//	                              (kernelspec and language_info as it reports them) and free of
//	                              outputs?
//	nbcheck clear NOTEBOOK.ipynb...
//	                              rewrites the notebooks as they must be committed: outputs and
//	                              execution counts cleared, the kernel's metadata.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "model":
		fs := flag.NewFlagSet("model", flag.ExitOnError)
		scale := fs.String("scale", "", "scale the notebooks are asked to run at (default $ACTADD_SCALE, else paper)")
		_ = fs.Parse(args)
		if fs.NArg() != 1 {
			usage()
		}
		err = checkModel(fs.Arg(0), *scale, os.Stdout)
	case "run":
		if len(args) != 1 {
			usage()
		}
		err = checkRun(args[0], os.Stderr)
	case "figures":
		fs := flag.NewFlagSet("figures", flag.ExitOnError)
		model := fs.String("model", "", "model name the sidecars must carry (\"tiny\": the tiny stand-in)")
		_ = fs.Parse(args)
		if fs.NArg() < 1 {
			usage()
		}
		var n int
		n, err = checkFigures(fs.Arg(0), *model, fs.Args()[1:])
		if err == nil {
			fmt.Printf("nbcheck: %d figures in %s are verified sets of PNG + SVG + PDF + sidecar with 95%% intervals\n", n, fs.Arg(0))
		}
	case "clean":
		if len(args) == 0 {
			usage()
		}
		for _, p := range args {
			if e := checkClean(p); e != nil {
				fmt.Fprintln(os.Stderr, "nbcheck:", e)
				err = fmt.Errorf("%d notebooks are not clean", len(args))
			}
		}
	case "clear":
		if len(args) == 0 {
			usage()
		}
		for _, p := range args {
			if e := clearNotebook(p); e != nil {
				fmt.Fprintln(os.Stderr, "nbcheck:", e)
				err = fmt.Errorf("could not clear %d notebooks", len(args))
			}
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nbcheck:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: nbcheck model [-scale S] NAME | run NOTEBOOK.ipynb | figures [-model M] DIR [NAME...] | clean NOTEBOOK.ipynb... | clear NOTEBOOK.ipynb...")
	os.Exit(2)
}
