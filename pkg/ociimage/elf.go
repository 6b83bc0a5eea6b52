package ociimage

import (
	"debug/elf"
	"fmt"
)

// elfArch maps ELF machines to GOARCH, the image config's architecture.
var elfArch = map[elf.Machine]string{
	elf.EM_X86_64:    "amd64",
	elf.EM_AARCH64:   "arm64",
	elf.EM_386:       "386",
	elf.EM_ARM:       "arm",
	elf.EM_PPC64:     "ppc64le",
	elf.EM_S390:      "s390x",
	elf.EM_RISCV:     "riscv64",
	elf.EM_LOONGARCH: "loong64",
}

// CheckStatic checks that exe can run on an empty base: a Linux ELF
// executable with no program interpreter and no shared libraries (what
// CGO_ENABLED=0 gives). It returns its architecture as GOARCH names it.
func CheckStatic(exe string) (string, error) {
	f, err := elf.Open(exe)
	if err != nil {
		return "", fmt.Errorf("%s is not a Linux executable (%v): the image runs the executable micro-gw build made, so build with --image on Linux", exe, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%s is dynamically linked and the image has no C library; it must be built with CGO_ENABLED=0 (micro-gw build does so: please report this)", exe)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		return "", fmt.Errorf("%s needs shared libraries %v and the image has none; it must be built with CGO_ENABLED=0 (micro-gw build does so: please report this)", exe, libs)
	}
	arch, ok := elfArch[f.Machine]
	if !ok || (f.Machine == elf.EM_PPC64 && f.ByteOrder.String() != "LittleEndian") {
		return "", fmt.Errorf("%s is for %v, an architecture micro-gw does not package as an image", exe, f.Machine)
	}
	return arch, nil
}
