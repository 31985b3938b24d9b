// Package datasets provides the data of the ActAdd paper's GPT-2 experiments (Turner et al.,
// arXiv 2308.10248) and the text metrics computed on it:
//
//   - OpenWebText documents, from local JSONL, parquet or plain-text files (ReadDocuments,
//     LoadDocuments) or downloaded from the Hugging Face hub (DownloadOpenWebText);
//   - the wedding-word metrics: document relevance for E1 (Relevance) and the completion
//     count for E2 (WeddingCount), and E1's document sample (SampleByRelevance);
//   - Punkt sentence splitting for E1's per-sentence scoring (Sentences);
//   - LAMA ConceptNet probes for E3 (LoadLAMA, SingleTokenProbes, DownloadLAMAConceptNet).
//
// The metrics follow the authors' Python code exactly, including its quirks; each function's
// comment says how.
package datasets
