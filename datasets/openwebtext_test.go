package datasets

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/hfhub/hubtest"
)

func TestTrainParquetFiles(t *testing.T) {
	for _, c := range []struct {
		names, want []string
	}{
		{[]string{".gitattributes", "plain_text/train/0001.parquet", "plain_text/train/0000.parquet", "plain_text/test/0000.parquet"},
			[]string{"plain_text/train/0000.parquet", "plain_text/train/0001.parquet"}},
		{[]string{"plain_text/partial-train/0000.parquet", "README.md"},
			[]string{"plain_text/partial-train/0000.parquet"}},
		{[]string{"plain_text/openwebtext-10k-train.parquet", "plain_text/x-test.parquet"},
			[]string{"plain_text/openwebtext-10k-train.parquet"}},
		{[]string{"plain_text/openwebtext-train-00001-of-00002.parquet", "plain_text/openwebtext-train-00000-of-00002.parquet"},
			[]string{"plain_text/openwebtext-train-00000-of-00002.parquet", "plain_text/openwebtext-train-00001-of-00002.parquet"}},
		{[]string{"README.md", "data.json"}, nil},
	} {
		if got := trainParquetFiles(c.names); !slices.Equal(got, c.want) {
			t.Errorf("trainParquetFiles(%q) = %q, want %q", c.names, got, c.want)
		}
	}
}

func TestDownloadOpenWebText(t *testing.T) {
	repo := hfhub.Repo{ID: OpenWebText10kRepo, Type: "dataset", Revision: ParquetRevision}
	srv := hubtest.NewServer(t, hubtest.Repo{Repo: repo, Files: map[string][]byte{
		".gitattributes":                []byte("*.parquet filter=lfs\n"),
		"plain_text/train/0000.parquet": parquetBytes(t, ptr("first doc"), ptr("second\x00 doc")),
		"plain_text/train/0001.parquet": parquetBytes(t, ptr("third doc")),
	}})
	opts := hfhub.Options{CacheDir: t.TempDir(), Endpoint: srv.URL}

	paths, err := DownloadOpenWebText(OpenWebText10kRepo, 0, opts)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := LoadDocuments(paths...)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, d := range docs {
		texts = append(texts, d.Text)
	}
	if want := []string{"first doc", "second doc", "third doc"}; !slices.Equal(texts, want) {
		t.Errorf("documents = %q, want %q", texts, want)
	}

	// Offline afterwards: same files from the cache, no request.
	n := srv.RequestCount()
	opts.Offline = true
	again, err := DownloadOpenWebText(OpenWebText10kRepo, 1, opts)
	if err != nil || len(again) != 1 || again[0] != paths[0] || srv.RequestCount() != n {
		t.Errorf("offline: %v, %v, %d requests", again, err, srv.RequestCount()-n)
	}

	// Offline with an empty cache: a clear error.
	_, err = DownloadOpenWebText(OpenWebTextRepo, 1, hfhub.Options{CacheDir: t.TempDir(), Endpoint: srv.URL, Offline: true})
	if !errors.Is(err, hfhub.ErrNotCached) || !strings.Contains(err.Error(), OpenWebTextRepo) {
		t.Errorf("offline, not cached: error %v", err)
	}

	// A repository without a train split.
	srv2 := hubtest.NewServer(t, hubtest.Repo{Repo: hfhub.Repo{ID: "someone/other", Type: "dataset", Revision: ParquetRevision},
		Files: map[string][]byte{"default/test/0000.parquet": parquetBytes(t, ptr("x"))}})
	_, err = DownloadOpenWebText("someone/other", 0, hfhub.Options{CacheDir: t.TempDir(), Endpoint: srv2.URL})
	if err == nil || !strings.Contains(err.Error(), "default/test/0000.parquet") {
		t.Errorf("no train split: error %v", err)
	}
}
