package datasets_test

import (
	"fmt"

	"github.com/actadd-go/actadd/datasets"
)

func Example() {
	completion := "I went up to my friend and said: the wedding is on! The bride's dress, the groom... married."
	fmt.Println(datasets.WeddingCount(completion))       // punctuation removed: married. counts
	fmt.Printf("%.4f\n", datasets.Relevance(completion)) // 1/18: only "wedding" is a bare word

	sentences, err := datasets.Sentences("The bride arrived. Everyone cheered!")
	if err != nil {
		panic(err)
	}
	for _, s := range sentences {
		fmt.Printf("%q\n", s)
	}
	// Output:
	// 4
	// 0.0556
	// "The bride arrived."
	// "Everyone cheered!"
}
