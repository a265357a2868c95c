package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strings"
)

// The plot is drawn with the standard library only: lines, dots and a 5×7
// bitmap font (upper case, digits and a little punctuation).

type series struct {
	label string
	color color.RGBA
	xs    []float64
	ys    []float64
}

type panel struct {
	title, xLabel, yLabel string
	series                []series
}

var (
	white = color.RGBA{255, 255, 255, 255}
	black = color.RGBA{0, 0, 0, 255}
	grey  = color.RGBA{220, 220, 220, 255}
	blue  = color.RGBA{31, 119, 180, 255}
	red   = color.RGBA{214, 39, 40, 255}
	green = color.RGBA{44, 160, 44, 255}
	amber = color.RGBA{255, 127, 14, 255}
)

// writePlot draws list time and memory against N.
func writePlot(path string, r *results) error {
	var cst, sec series
	cst = series{label: "kubectl get cst -A", color: blue}
	sec = series{label: "kubectl get secrets -A", color: red}
	heap := series{label: "certstatus heap in use", color: blue}
	rss := series{label: "certstatus RSS", color: green}
	kube := series{label: "kube-apiserver RSS", color: red}
	add := func(s *series, x, y float64) { s.xs, s.ys = append(s.xs, x), append(s.ys, y) }
	add(&heap, 0, float64(r.Memory.Empty.HeapInuse)/(1<<20))
	add(&rss, 0, float64(r.Memory.Empty.RSS)/(1<<20))
	add(&kube, 0, float64(r.Memory.KubeAPIServerRSS0)/(1<<20))
	for _, p := range r.Sweep {
		n := float64(p.N)
		add(&heap, n, float64(p.Memory.HeapInuse)/(1<<20))
		add(&rss, n, float64(p.Memory.RSS)/(1<<20))
		add(&kube, n, float64(p.KubeAPIServerRSS)/(1<<20))
		table := p.CSTTable
		peer := p.SecretsTable
		if p.N == r.Secrets && len(r.Lists) > 0 {
			table, peer = r.Lists[0].Ours, r.Lists[0].Peer
		}
		if table.Runs > 0 {
			add(&cst, n, table.Median.Seconds())
			add(&sec, n, peer.Median.Seconds())
		}
	}
	panels := []panel{
		{title: "list time, median (table output)", xLabel: "TLS Secrets", yLabel: "seconds", series: []series{cst, sec}},
		{title: "memory", xLabel: "TLS Secrets", yLabel: "MiB", series: []series{heap, rss, kube}},
	}
	const w, h = 560, 470
	img := image.NewRGBA(image.Rect(0, 0, w*len(panels), h))
	fill(img, img.Bounds(), white)
	for i, p := range panels {
		drawPanel(img, image.Rect(i*w, 0, (i+1)*w, h), p)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func drawPanel(img *image.RGBA, area image.Rectangle, p panel) {
	const scale = 2
	left, right, top, bottom := area.Min.X+80, area.Max.X-40, area.Min.Y+50, area.Max.Y-130
	text(img, area.Min.X+(area.Dx()-textWidth(p.title, scale))/2, area.Min.Y+14, p.title, scale, black)
	var xMax, yMax float64
	for _, s := range p.series {
		for i := range s.xs {
			xMax, yMax = math.Max(xMax, s.xs[i]), math.Max(yMax, s.ys[i])
		}
	}
	if xMax == 0 || yMax == 0 {
		return
	}
	yStep := niceStep(yMax / 5)
	yMax = math.Ceil(yMax/yStep) * yStep
	px := func(x float64) int { return left + int(x/xMax*float64(right-left)) }
	py := func(y float64) int { return bottom - int(y/yMax*float64(bottom-top)) }
	// Grid and y ticks.
	for y := 0.0; y <= yMax+yStep/2; y += yStep {
		line(img, left, py(y), right, py(y), grey, 1)
		label := trimFloat(y)
		text(img, left-8-textWidth(label, 1), py(y)-3, label, 1, black)
	}
	// x ticks at the measured sizes.
	ticks := map[float64]bool{}
	for _, s := range p.series {
		for _, x := range s.xs {
			if !ticks[x] {
				ticks[x] = true
				line(img, px(x), bottom, px(x), bottom+5, black, 1)
				label := fmt.Sprintf("%g", x)
				if x >= 1000 {
					label = fmt.Sprintf("%gK", x/1000)
				}
				text(img, px(x)-textWidth(label, 1)/2, bottom+9, label, 1, black)
			}
		}
	}
	line(img, left, top, left, bottom, black, 1)
	line(img, left, bottom, right, bottom, black, 1)
	text(img, (left+right-textWidth(p.xLabel, scale))/2, bottom+26, p.xLabel, scale, black)
	text(img, area.Min.X+8, top-18, p.yLabel, scale, black)
	for k, s := range p.series {
		for i := range s.xs {
			if i > 0 {
				line(img, px(s.xs[i-1]), py(s.ys[i-1]), px(s.xs[i]), py(s.ys[i]), s.color, 2)
			}
			fill(img, image.Rect(px(s.xs[i])-3, py(s.ys[i])-3, px(s.xs[i])+4, py(s.ys[i])+4), s.color)
		}
		// Legend, under the x axis.
		ly := bottom + 52 + k*20
		line(img, left+10, ly+6, left+34, ly+6, s.color, 3)
		text(img, left+40, ly, s.label, scale, black)
	}
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// line is Bresenham's, with square pens of the given width.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, width int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		fill(img, image.Rect(x0-(width-1)/2, y0-(width-1)/2, x0+width/2+1, y0+width/2+1), c)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int { return max(v, -v) }

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func textWidth(s string, scale int) int { return len(s) * 6 * scale }

// text draws s with the 5×7 font, each dot scale×scale pixels.
func text(img *image.RGBA, x, y int, s string, scale int, c color.RGBA) {
	for i, r := range strings.ToUpper(s) {
		glyph, ok := font[r]
		if !ok {
			glyph = font['?']
		}
		for row, bits := range glyph {
			for col := range 5 {
				if bits&(0x10>>col) != 0 {
					px, py := x+(i*6+col)*scale, y+row*scale
					fill(img, image.Rect(px, py, px+scale, py+scale), c)
				}
			}
		}
	}
}

// font is the HD44780 5×7 character set, rows top to bottom, bit 4 on the left.
var font = map[rune][7]byte{
	' ': {}, '?': {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},
	'0': {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, '1': {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
	'2': {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, '3': {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
	'4': {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, '5': {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
	'6': {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, '7': {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
	'8': {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, '9': {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
	'A': {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}, 'B': {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},
	'C': {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}, 'D': {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},
	'E': {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}, 'F': {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},
	'G': {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}, 'H': {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
	'I': {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}, 'J': {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},
	'K': {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, 'L': {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},
	'M': {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}, 'N': {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
	'O': {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, 'P': {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},
	'Q': {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}, 'R': {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},
	'S': {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}, 'T': {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
	'U': {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, 'V': {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},
	'W': {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}, 'X': {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},
	'Y': {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}, 'Z': {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},
	'.': {0, 0, 0, 0, 0, 0x0C, 0x0C}, '-': {0, 0, 0, 0x1F, 0, 0, 0},
	'(': {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}, ')': {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},
	'/': {0, 0x01, 0x02, 0x04, 0x08, 0x10, 0}, ':': {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0},
	',': {0, 0, 0, 0, 0x0C, 0x04, 0x08}, '=': {0, 0, 0x1F, 0, 0x1F, 0, 0},
	'%': {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}, '+': {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0},
}
