package datasets

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
)

// Small data files compiled into the package, so that the experiments run (as pipeline checks)
// on a machine with no network and no copy of the real data. Each folder under fixtures/ has a
// README.md naming the data's source and licence.
var (
	//go:embed fixtures/openwebtext/owt300.jsonl
	owtFixture []byte
	//go:embed fixtures/lama/conceptnet-handwritten.jsonl
	lamaFixture []byte
)

// Fixture names a data file embedded in this package.
type Fixture struct {
	// Name is the file's name, e.g. "owt300.jsonl".
	Name string
	// About says in one line what the data is, where it comes from and its licence.
	About string
	// SHA256 is the hex sha256 of the file's bytes.
	SHA256 string
	// Items is the number of documents or records it holds.
	Items int
}

// String names the fixture and its checksum, e.g. for a result's data source.
func (f Fixture) String() string {
	return fmt.Sprintf("%s (%s; %d items, sha256 %s)", f.Name, f.About, f.Items, f.SHA256)
}

func newFixture(name, about string, data []byte, items int) Fixture {
	sum := sha256.Sum256(data)
	return Fixture{Name: name, About: about, SHA256: hex.EncodeToString(sum[:]), Items: items}
}

// OpenWebTextFixture returns the OpenWebText documents embedded in the package: 300 real
// documents of the corpus's 10,000-document slice stas/openwebtext-10k (OpenWebText's dataset
// card: CC0-1.0; the texts belong to their authors). They are every document of the slice's
// first 1,000 that holds a wedding word, so that E1's relevance bins have data, and others
// picked by a fixed rule (fixtures/openwebtext/README.md). It is a small sample for offline
// pipeline checks: the paper scored 300,000 documents.
func OpenWebTextFixture() ([]Document, Fixture, error) {
	var docs []Document
	for doc, err := range ReadJSONL(bytes.NewReader(owtFixture)) {
		if err != nil {
			return nil, Fixture{}, fmt.Errorf("datasets: the embedded OpenWebText sample: %w", err)
		}
		docs = append(docs, doc)
	}
	return docs, newFixture("owt300.jsonl", "OpenWebText sample embedded in package datasets, from stas/openwebtext-10k, CC0-1.0", owtFixture, len(docs)), nil
}

// LAMAFixture returns the LAMA-format records embedded in the package. They are NOT LAMA: they
// are hand-written for this project in the format of LAMA's data/ConceptNet/test.jsonl (LAMA
// itself is CC BY-NC 4.0 and is downloaded at run time: DownloadLAMAConceptNet), with records
// for every case of SingleTokenProbes's rule. Use them for offline pipeline checks only.
func LAMAFixture() ([]LAMARecord, Fixture, error) {
	recs, err := ReadLAMA(bytes.NewReader(lamaFixture))
	if err != nil {
		return nil, Fixture{}, fmt.Errorf("datasets: the embedded LAMA-format fixture: %w", err)
	}
	return recs, newFixture("conceptnet-handwritten.jsonl", "hand-written LAMA-format fixture embedded in package datasets, NOT LAMA data", lamaFixture, len(recs)), nil
}
