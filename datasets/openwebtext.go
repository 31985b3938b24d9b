package datasets

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/actadd-go/actadd/hfhub"
)

// OpenWebText on the Hugging Face hub.
const (
	// OpenWebTextRepo is the full corpus (8,013,769 documents, about 40 GB of text).
	OpenWebTextRepo = "Skylion007/openwebtext"
	// OpenWebText10kRepo is a 10,000-document slice of it, for quick runs.
	OpenWebText10kRepo = "stas/openwebtext-10k"
	// ParquetRevision is the hub's parquet conversion of a dataset repository.
	ParquetRevision = "refs/convert/parquet"
)

// OpenWebTextParquetFiles lists the parquet files of the train split of a dataset repository's
// parquet conversion (revision ParquetRevision), sorted by name: the files in a "train" folder
// (the hub's layout <config>/train/NNNN.parquet); failing that, in "partial-train" (the hub
// converts only the start of very large datasets); failing that, files named *-train.parquet or
// *-train-NNNNN-of-NNNNN.parquet (the older layout). Offline it uses the listing cached by an
// earlier online call.
func OpenWebTextParquetFiles(repoID string, opts hfhub.Options) ([]string, error) {
	repo := hfhub.Repo{ID: repoID, Type: "dataset", Revision: ParquetRevision}
	names, err := hfhub.ListFiles(repo, opts)
	if err != nil {
		return nil, fmt.Errorf("datasets: listing the parquet files of %s: %w", repoID, err)
	}
	files := trainParquetFiles(names)
	if len(files) == 0 {
		return nil, fmt.Errorf("datasets: %s at %s has no parquet files of a train split (it has: %s); pass the file names to hfhub.Download yourself", repoID, ParquetRevision, strings.Join(names[:min(len(names), 20)], ", "))
	}
	return files, nil
}

// trainParquetFiles picks the train split's parquet files out of a repository listing.
func trainParquetFiles(names []string) []string {
	for _, dir := range []string{"train", "partial-train"} {
		var files []string
		for _, n := range names {
			if strings.HasSuffix(n, ".parquet") && path.Base(path.Dir(n)) == dir {
				files = append(files, n)
			}
		}
		if len(files) > 0 {
			slices.Sort(files)
			return files
		}
	}
	var files []string
	for _, n := range names {
		base := path.Base(n)
		if strings.HasSuffix(base, "-train.parquet") || strings.Contains(base, "-train-") && strings.HasSuffix(base, ".parquet") {
			files = append(files, n)
		}
	}
	slices.Sort(files)
	return files
}

// DownloadOpenWebText returns local copies of the first maxFiles (all when maxFiles <= 0) train
// parquet files of an OpenWebText repository's parquet conversion (OpenWebTextRepo or
// OpenWebText10kRepo), downloading those not yet in the Hugging Face cache. Read them with
// ReadDocuments. The full corpus is large (tens of files of hundreds of MB): start with a few.
//
// Offline (opts.Offline, HF_HUB_OFFLINE=1, or no network) it returns the cached files, or an
// error matching hfhub.ErrNotCached that says what is missing.
func DownloadOpenWebText(repoID string, maxFiles int, opts hfhub.Options) ([]string, error) {
	files, err := OpenWebTextParquetFiles(repoID, opts)
	if err != nil {
		return nil, err
	}
	if maxFiles > 0 && maxFiles < len(files) {
		files = files[:maxFiles]
	}
	repo := hfhub.Repo{ID: repoID, Type: "dataset", Revision: ParquetRevision}
	paths, err := hfhub.Download(repo, files, opts)
	if err != nil {
		return nil, fmt.Errorf("datasets: OpenWebText parquet files of %s: %w", repoID, err)
	}
	return paths, nil
}
