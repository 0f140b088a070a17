/* espcn-sample-data OUT_DIR: a small Food-101-shaped training set of real
 * photographs taken from Debian packages, so the project can be trained and
 * tested without downloading Food-101.
 *
 *   CACHE/            the .deb files (apt-get download; default OUT_DIR/.debs,
 *                     --cache DIR shares them between folders; reused if present)
 *   OUT_DIR/.src/     their contents (dpkg -x, nothing is installed)
 *   OUT_DIR/images/<class>/<id>.jpg   tiles, JPEG quality 95
 *   OUT_DIR/meta/train.txt, meta/test.txt   `<class>/<id>` per line
 *   OUT_DIR/manifest.tsv   per source photograph: package, version, path, sha256,
 *                          licence, the scale it was tiled at, its detail, tiles
 *                          kept and dropped, split (or why it was excluded);
 *                          written last: its presence marks a complete run
 *
 * Sources (photographs only: no drawings, renders, logos, text or boards):
 * plasma-workspace-wallpapers and opencv-doc (as in the first edition), the
 * photographs of gcompris-qt-data (the WebP photos in four Qt resource bundles:
 * erase, explore_monuments, explore_world_animals, explore_farm_animals),
 * lomiri-wallpapers-16.04 and -20.04, and palapeli-data's puzzle photos.  Each
 * file's licence comes from its package (metadata.json, debian/copyright, the
 * bundles' READMEs, the puzzles' .desktop files); a file without one is left out.
 *
 * Filters, in order:
 *  - contamination guard: every photograph is compared with every Set5 and
 *    Set14 image (image/image-match.h) and left out on a match, whatever its
 *    name (opencv-doc's baboon.jpg is Set14's baboon);
 *  - soft sources are shrunk (MATLAB-bicubic, antialiased) by 0.8 at a time
 *    until their detail (image/detail.h, sharpest) reaches the median of the sharp
 *    sources (gcompris and palapeli, at their own size) or a further step would
 *    make them smaller than a tile;
 *  - tiles with less than MIN_TEXTURED of their blocks textured (mostly flat or
 *    blurred) are dropped.
 * --unfiltered writes the training tiles without the last two (to measure
 * them); test tiles are always made with both, so the validation split is the
 * same either way.
 *
 * class = the source photograph, so tiles of one photo are never split between
 * train and test. Whole photos go to test, in a fixed seeded order, until test
 * holds max(50, 20%) of the tiles while train keeps at least 200.
 *
 * Tiles are 512x384 (Food-101's usual size), taken on a centred grid; a photo
 * smaller than a tile in a dimension is kept whole in that dimension. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <webp/decode.h>

#include "image/detail.h"
#include "image/image-match.h"
#include "image/image-io.h"
#include "image/imresize.h"
#include "sample-data/licences.h"
#include "sample-data/qt-resource.h"
#include "util/atomic-file.h"
#include "util/rng.h"

#define TILE_W 512
#define TILE_H 384
#define MIN_TRAIN 200
#define MIN_TEST 50
#define SPLIT_SEED 20240501
#define SHRINK_STEP 0.8
#define MIN_TEXTURED 0.5
#define MANIFEST_HEADER "package\tversion\tpath\tsha256\tlicence\tscale\tdetail\ttiles\tdropped\tsplit\n"

typedef enum { KIND_FILE, KIND_RCC } SourceKind;

typedef struct {
  const char *package;
  SourceKind kind;
  char *path;        /* inside the package; for KIND_RCC the bundle */
  char *entry;       /* KIND_RCC: the file inside the bundle */
  char *class_name;
  char *licence;     /* NULL: unknown, the photo is left out */
  gboolean sharp;    /* sets the detail target */
} Source;

static const char *const packages[] = { "plasma-workspace-wallpapers", "opencv-doc", "gcompris-qt-data",
  "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "palapeli-data" };

/* plasma-workspace-wallpapers: the photographs only, largest JPEG of each.
 * Excluded: Autumn (painting), Kite (sky photo with a drawn logo pasted in),
 * PastelHills, Flow, Honeywave, SafeLanding, Shell, Volna and the PNG-only
 * wallpapers (renders and abstract art). */
static const char *const plasma[] = { "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow",
  "FallenLeaf", "Grey", "OneStandsOut", "Path", "summer_1am" };

/* opencv-doc examples/data: colour photographs only. Excluded: drawings, logos,
 * renders and synthetic images (HappyFish, LinuxLogo, WindowsLogo,
 * Blender_Suzanne*, blox, cards, pic*, ellipses, detect_blob, gradient, mask,
 * starry_night is a painting, licenseplate_motion is synthetically blurred);
 * text and charts (text_*, imageText*, sudoku, notes, digits, alphabet, ml);
 * calibration boards (left*, right*, chessboard); grayscale photos
 * (basketball*, box*, pca_test1); the second image of stereo / flow / editing
 * pairs, a near-duplicate of the first (aloeR, rubberwhale2, leuvenB, graf3,
 * ela_modified).  baboon.jpg is listed: it is Set14's baboon, and the
 * contamination guard must (and does) leave it out by its content.
 * butterfly.jpg is a swallowtail on a leaf, not Set5's butterfly nor Set14's
 * monarch. */
static const char *const opencv[][2] = { { "aero1.jpg", "aero1" }, { "aero3.jpg", "aero3" }, { "aloeL.jpg", "aloe" },
  { "apple.jpg", "apple" }, { "baboon.jpg", "baboon" }, { "board.jpg", "board" }, { "building.jpg", "building" },
  { "butterfly.jpg", "butterfly" }, { "chicky_512.png", "chicky" }, { "ela_original.jpg", "ela" },
  { "fruits.jpg", "fruits" }, { "graf1.png", "graf" }, { "home.jpg", "home" }, { "leuvenA.jpg", "leuven" },
  { "messi5.jpg", "messi" }, { "orange.jpg", "orange" }, { "rubberwhale1.png", "rubberwhale" },
  { "smarties.png", "smarties" }, { "squirrel_cls.jpg", "squirrel" }, { "stuff.jpg", "stuff" } };
/* debian/copyright of opencv: "Files: *" (examples/data is not listed apart) */
#define OPENCV_LICENCE "Apache-2.0 AND BSD-3-Clause"

/* lomiri-wallpapers: the photographs.  Excluded: umang (an abstract gradient),
 * Fossa (a render), Infinite-Sea (digital art), Painting-Colors (a graphic). */
static const char *const lomiri16[] = { "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly",
  "Picture_0B_by_freespace", "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi",
  "analogpattern_by_Peter_Nerlich", "free_by_Peter_Nerlich", "friends_by_Aitzol_Berasategi",
  "greentock_by_Peter_Nerlich", "life_by_Aitzol_Berasategi", "picosdeeuropa_by_Aitzol_Berasategi",
  "seeding_by_Clements_Engelhardt", "sunset_by_Aitzol_Berasategi" };
static const char *const lomiri20[] = { "Kleiber_by_Lukas_Baubkus" };

/* palapeli-data: the five puzzle photographs (not the background textures). */
static const char *const palapeli[] = { "castle-maintenon", "cincinnati-bridge", "citrus-fruits",
  "european-honey-bee", "panther-chameleon-female" };

/* gcompris-qt-data: the photo bundles; every WebP in them is a photograph. */
static const char *const gcompris[] = { "erase", "explore_monuments", "explore_world_animals",
  "explore_farm_animals" };

typedef struct {
  gchar *deb;
  gchar *version;
} Package;

static gboolean
run (const char *const *argv, const char *cwd, gchar **out, GError **error)
{
  g_autofree gchar *std_out = NULL, *std_err = NULL;
  gint status = 0;
  g_autofree gchar *cmd = g_strjoinv (" ", (gchar **) argv);
  if (!g_spawn_sync (cwd, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &std_out,
          &std_err, &status, error)) {
    g_prefix_error (error, "cannot run '%s': ", cmd);
    return FALSE;
  }
  if (!g_spawn_check_wait_status (status, NULL)) {
    g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "'%s' failed: %s", cmd,
        std_err && *std_err ? g_strstrip (std_err) : "(no message)");
    return FALSE;
  }
  if (out)
    *out = g_strstrip (g_steal_pointer (&std_out));
  return TRUE;
}

static gchar *
find_deb (const char *dir, const char *package)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return NULL;
  g_autofree gchar *prefix = g_strconcat (package, "_", NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, prefix) && g_str_has_suffix (name, ".deb"))
      return g_build_filename (dir, name, NULL);
  return NULL;
}

/* Download (unless present) and unpack (unless done) one package. */
static gboolean
fetch (const char *out_dir, const char *debs, const char *package, Package *pkg, GError **error)
{
  g_autofree gchar *src = g_build_filename (out_dir, ".src", NULL);
  if (g_mkdir_with_parents (debs, 0755) != 0 || g_mkdir_with_parents (src, 0755) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot create %s: %s", debs, g_strerror (errno));
    return FALSE;
  }
  pkg->deb = find_deb (debs, package);
  if (pkg->deb == NULL) {
    g_print ("downloading %s with apt-get ...\n", package);
    const char *argv[] = { "apt-get", "download", package, NULL };
    if (!run (argv, debs, NULL, error))
      return FALSE;
    pkg->deb = find_deb (debs, package);
    if (pkg->deb == NULL) {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
          "apt-get download %s left no %s_*.deb in %s", package, package, debs);
      return FALSE;
    }
  }
  const char *fargv[] = { "dpkg-deb", "-f", pkg->deb, "Version", NULL };
  if (!run (fargv, NULL, &pkg->version, error))
    return FALSE;
  g_autofree gchar *base = g_path_get_basename (pkg->deb);
  g_autofree gchar *marker_name = g_strconcat (".unpacked-", base, NULL);
  g_autofree gchar *marker = g_build_filename (src, marker_name, NULL);
  if (!g_file_test (marker, G_FILE_TEST_EXISTS)) {
    g_print ("unpacking %s ...\n", base);
    const char *xargv[] = { "dpkg", "-x", pkg->deb, src, NULL };
    if (!run (xargv, NULL, NULL, error))
      return FALSE;
    if (!g_file_set_contents (marker, "", 0, error))
      return FALSE;
  }
  return TRUE;
}

/* Cut `img` into TILE_W x TILE_H tiles on a centred grid. */
static GPtrArray *
cut_tiles (const EspcnImage *img)
{
  GPtrArray *tiles = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_image_free);
  int tw = MIN (TILE_W, img->width), th = MIN (TILE_H, img->height);
  int nx = img->width / tw, ny = img->height / th;
  int x0 = (img->width - nx * tw) / 2, y0 = (img->height - ny * th) / 2;
  for (int r = 0; r < ny; r++)
    for (int c = 0; c < nx; c++)
      g_ptr_array_add (tiles, espcn_image_crop (img, x0 + c * tw, y0 + r * th, tw, th));
  return tiles;
}


static gchar *
read_text (const char *path)
{
  gchar *text = NULL;
  return g_file_get_contents (path, &text, NULL, NULL) ? text : NULL;
}

/* KPlugin.License of a plasma wallpaper's metadata.json. */
static char *
plasma_licence (const char *src_root, const char *name)
{
  g_autofree char *path = g_build_filename (src_root, "usr/share/wallpapers", name, "metadata.json", NULL);
  g_autoptr (JsonParser) p = json_parser_new ();
  if (!json_parser_load_from_file (p, path, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root (p);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonObject *k = o && json_object_has_member (o, "KPlugin") ? json_object_get_object_member (o, "KPlugin") : NULL;
  const char *l = k ? json_object_get_string_member_with_default (k, "License", NULL) : NULL;
  return g_strdup (l);
}

/* X-KDE-PluginInfo-License of a palapeli puzzle's .desktop file. */
static char *
desktop_licence (const char *path)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  return g_key_file_get_string (kf, "Desktop Entry", "X-KDE-PluginInfo-License", NULL);
}

static Source *
source_add (GArray *list, const char *package, const char *path, const char *class_name, char *licence, gboolean sharp)
{
  Source s = { package, KIND_FILE, g_strdup (path), NULL, g_strdup (class_name), licence, sharp };
  g_array_append_val (list, s);
  return &g_array_index (list, Source, list->len - 1);
}

/* The licence of bundle entry `entry` from the nearest README above it. */
static char *
bundle_licence (EspcnQtResource *res, const char *entry, GHashTable *readmes)
{
  g_autofree char *dir = g_path_get_dirname (entry);
  while (strlen (dir) > 1) {
    g_autofree char *readme = g_strconcat (dir, "/README", NULL);
    GHashTable *table = g_hash_table_lookup (readmes, readme);
    if (table == NULL) {
      g_autoptr (GBytes) b = espcn_qt_resource_read (res, readme, NULL);
      if (b != NULL) {
        g_autofree char *text = g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
        table = espcn_licence_table_parse (text);
        g_hash_table_insert (readmes, g_strdup (readme), table);
      }
    }
    if (table != NULL) {
      const char *l = espcn_licence_lookup (table, entry + strlen (dir) + 1);
      if (l != NULL)
        return g_strdup (l);
    }
    char *up = g_path_get_dirname (dir);
    g_free (dir);
    dir = up;
  }
  return NULL;
}

static gboolean
list_sources (const char *src_root, GArray *list, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (plasma); i++) {
    g_autofree char *path = g_strdup_printf ("usr/share/wallpapers/%s/contents/images/2560x1600.jpg", plasma[i]);
    source_add (list, "plasma-workspace-wallpapers", path, plasma[i], plasma_licence (src_root, plasma[i]), FALSE);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (opencv); i++) {
    g_autofree char *path = g_strconcat ("usr/share/doc/opencv-doc/examples/data/", opencv[i][0], NULL);
    g_autofree char *cls = g_strconcat ("opencv-", opencv[i][1], NULL);
    source_add (list, "opencv-doc", path, cls, g_strdup (OPENCV_LICENCE), FALSE);
  }
  const struct { const char *package, *const *names; gsize n; const char *release; } lomiri[] = {
    { "lomiri-wallpapers-16.04", lomiri16, G_N_ELEMENTS (lomiri16), "16.04" },
    { "lomiri-wallpapers-20.04", lomiri20, G_N_ELEMENTS (lomiri20), "20.04" },
  };
  for (gsize p = 0; p < G_N_ELEMENTS (lomiri); p++) {
    g_autofree char *cr = g_build_filename (src_root, "usr/share/doc", lomiri[p].package, "copyright", NULL);
    g_autofree char *text = read_text (cr);
    g_autoptr (GHashTable) table = text ? espcn_licence_table_parse (text) : NULL;
    for (gsize i = 0; i < lomiri[p].n; i++) {
      g_autofree char *path = g_strdup_printf ("usr/share/backgrounds/%s.jpg", lomiri[p].names[i]);
      g_autofree char *key = g_strdup_printf ("%s/%s.jpg", lomiri[p].release, lomiri[p].names[i]);
      g_autofree char *cls = g_strconcat ("lomiri-", lomiri[p].names[i], NULL);
      const char *l = table ? g_hash_table_lookup (table, key) : NULL;
      source_add (list, lomiri[p].package, path, cls, g_strdup (l), FALSE);
    }
  }
  for (gsize i = 0; i < G_N_ELEMENTS (palapeli); i++) {
    g_autofree char *path = g_strdup_printf ("usr/share/palapeli/collection/%s.jpg", palapeli[i]);
    g_autofree char *desktop = g_strdup_printf ("%s/usr/share/palapeli/collection/%s.desktop", src_root, palapeli[i]);
    g_autofree char *cls = g_strconcat ("palapeli-", palapeli[i], NULL);
    source_add (list, "palapeli-data", path, cls, desktop_licence (desktop), TRUE);
  }
  for (gsize b = 0; b < G_N_ELEMENTS (gcompris); b++) {
    g_autofree char *rel = g_strdup_printf ("usr/share/gcompris-qt/rcc/%s.rcc", gcompris[b]);
    g_autofree char *path = g_build_filename (src_root, rel, NULL);
    g_autoptr (EspcnQtResource) res = espcn_qt_resource_open (path, error);
    if (res == NULL)
      return FALSE;
    g_autoptr (GHashTable) readmes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        (GDestroyNotify) g_hash_table_unref);
    const GPtrArray *files = espcn_qt_resource_files (res);
    for (guint i = 0; i < files->len; i++) {
      const char *entry = files->pdata[i];
      if (!g_str_has_suffix (entry, ".webp"))
        continue;
      g_autofree char *base = g_path_get_basename (entry);
      base[strlen (base) - 5] = '\0';
      g_autofree char *cls = g_strdup_printf ("gcompris-%s-%s", gcompris[b], base);
      Source *s = source_add (list, "gcompris-qt-data", rel, cls, bundle_licence (res, entry, readmes), TRUE);
      s->kind = KIND_RCC;
      s->entry = g_strdup (entry);
    }
  }
  return TRUE;
}

static EspcnImage *
decode_webp (const guint8 *data, gsize len, const char *name, GError **error)
{
  int w = 0, h = 0;
  uint8_t *rgb = WebPDecodeRGB (data, len, &w, &h);
  if (rgb == NULL || w < 1 || h < 1) {
    WebPFree (rgb);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a decodable WebP image", name);
    return NULL;
  }
  EspcnImage *img = espcn_image_new (w, h);
  memcpy (img->data, rgb, (gsize) w * h * 3);
  WebPFree (rgb);
  return img;
}

/* The source's bytes (sha256 over them) and its decoded image. */
static EspcnImage *
load_source (const char *src_root, const Source *s, char **sha256, GError **error)
{
  g_autofree char *path = g_build_filename (src_root, s->path, NULL);
  g_autoptr (GBytes) bytes = NULL;
  if (s->kind == KIND_RCC) {
    g_autoptr (EspcnQtResource) res = espcn_qt_resource_open (path, error);
    if (res == NULL)
      return NULL;
    bytes = espcn_qt_resource_read (res, s->entry, error);
  } else {
    gchar *contents = NULL;
    gsize len = 0;
    if (g_file_get_contents (path, &contents, &len, error))
      bytes = g_bytes_new_take (contents, len);
  }
  if (bytes == NULL) {
    g_prefix_error (error, "source photo missing from %s: ", s->package);
    return NULL;
  }
  gsize len;
  const guint8 *d = g_bytes_get_data (bytes, &len);
  *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, d, len);
  if (s->kind == KIND_RCC)
    return decode_webp (d, len, s->entry, error);
  return espcn_image_load_from_data (d, len, path, error);
}

typedef struct {
  char *name;
  EspcnMatchImage *m;
} Reference;

static void
reference_clear (Reference *r)
{
  g_free (r->name);
  espcn_match_image_free (r->m);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static GArray *
load_references (const char *refs_dir, GError **error)
{
  GArray *refs = g_array_new (FALSE, TRUE, sizeof (Reference));
  g_array_set_clear_func (refs, (GDestroyNotify) reference_clear);
  const char *sets[] = { "Set5", "Set14" };
  for (gsize i = 0; i < G_N_ELEMENTS (sets); i++) {
    g_autofree char *dir = g_build_filename (refs_dir, sets[i], NULL);
    g_autoptr (GDir) d = g_dir_open (dir, 0, error);
    if (d == NULL) {
      g_prefix_error (error, "the contamination guard needs Set5 and Set14 (--refs DIR): ");
      g_array_unref (refs);
      return NULL;
    }
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    const char *n;
    while ((n = g_dir_read_name (d)) != NULL)
      if (g_str_has_suffix (n, ".png"))
        g_ptr_array_add (names, g_strdup (n));
    g_ptr_array_sort (names, compare_names);
    for (guint k = 0; k < names->len; k++) {
      g_autofree char *path = g_build_filename (dir, names->pdata[k], NULL);
      g_autoptr (EspcnImage) img = espcn_image_load (path, error);
      if (img == NULL) {
        g_array_unref (refs);
        return NULL;
      }
      Reference r = { g_strdup_printf ("%s/%s", sets[i], (char *) names->pdata[k]), espcn_match_image_new (img) };
      g_array_append_val (refs, r);
    }
  }
  if (refs->len == 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no PNG images in %s/Set5 and %s/Set14", refs_dir, refs_dir);
    g_array_unref (refs);
    return NULL;
  }
  return refs;
}

/* The reference the photograph matches (and its score), or NULL. */
static const char *
contaminated (const GArray *refs, const EspcnImage *img, double *score)
{
  g_autoptr (EspcnMatchImage) m = espcn_match_image_new (img);
  *score = 0;
  for (guint i = 0; m != NULL && i < refs->len; i++) {
    const Reference *r = &g_array_index (refs, Reference, i);
    double s = r->m ? espcn_match_score (r->m, m) : 0;
    if (s >= ESPCN_MATCH_THRESHOLD) {
      *score = s;
      return r->name;
    }
    *score = MAX (*score, s);
  }
  return NULL;
}

/* Shrinks a soft image by SHRINK_STEP until its detail reaches target or a
 * further step would make it smaller than a tile; returns the total factor. */
static double
shrink_to_detail (EspcnImage **img, double target, double *rms)
{
  double f = 1.0;
  *rms = espcn_image_detail (*img).sharpest;
  while (*rms < target && (*img)->width * SHRINK_STEP >= TILE_W && (*img)->height * SHRINK_STEP >= TILE_H) {
    int w = (int) ((*img)->width * SHRINK_STEP + 0.5), h = (int) ((*img)->height * SHRINK_STEP + 0.5);
    EspcnImage *small = espcn_imresize (*img, w, h);
    f *= (double) w / (*img)->width;
    espcn_image_free (*img);
    *img = small;
    *rms = espcn_image_detail (*img).sharpest;
  }
  return f;
}

typedef struct {
  const Source *src;
  gchar *sha256;
  char *excluded;   /* why it was left out, or NULL */
  double scale, rms;
  GPtrArray *ids;   /* "<class>/<id>" of the test-quality tiles */
  GPtrArray *train_ids; /* --unfiltered: the unfiltered tiles for training; else == ids */
  guint dropped;
  gboolean test;
  GError *error;    /* processing failed */
} Photo;

static gboolean
write_text (const char *path, GString *s, GError **error)
{
  return espcn_write_file_atomic (path, s->str, s->len, error);
}

/* Writes the tiles of img kept by the detail filter (all with filter FALSE) as
 * <cls_dir>/<prefix>NN.jpg and lists their ids; returns FALSE on a write error. */
static gboolean
write_tiles (const EspcnImage *img, const char *cls_dir, const char *class_name, const char *prefix, gboolean filter,
             GPtrArray *ids, guint *dropped, GError **error)
{
  g_autoptr (GPtrArray) tiles = cut_tiles (img);
  for (guint t = 0; t < tiles->len; t++) {
    const EspcnImage *tile = g_ptr_array_index (tiles, t);
    if (filter && espcn_image_detail (tile).textured_fraction < MIN_TEXTURED) {
      (*dropped)++;
      continue;
    }
    g_autofree gchar *id = g_strdup_printf ("%s%02u", prefix, t);
    g_autofree gchar *file = g_strconcat (id, ".jpg", NULL);
    g_autofree gchar *tile_path = g_build_filename (cls_dir, file, NULL);
    if (!espcn_image_save_jpeg (tile, tile_path, 95, error))
      return FALSE;
    g_ptr_array_add (ids, g_strdup_printf ("%s/%s", class_name, id));
  }
  return TRUE;
}

typedef struct {
  const char *src_root, *out_dir;
  const GArray *refs;
  double target;
  gboolean unfiltered;
} Job;

/* One photograph, on a worker thread: guard, licence, shrink, tiles. */
static void
process_photo (gpointer data, gpointer user_data)
{
  Photo *ph = data;
  const Job *job = user_data;
  const Source *s = ph->src;
  ph->ids = g_ptr_array_new_with_free_func (g_free);
  ph->train_ids = job->unfiltered ? g_ptr_array_new_with_free_func (g_free) : g_ptr_array_ref (ph->ids);
  g_autoptr (EspcnImage) img = load_source (job->src_root, s, &ph->sha256, &ph->error);
  if (img == NULL)
    return;
  double score;
  const char *match = contaminated (job->refs, img, &score);
  if (match != NULL) {
    ph->excluded = g_strdup_printf ("excluded: matches %s (%.2f)", match, score);
    g_print ("%s: left out, it matches %s (score %.2f)\n", s->class_name, match, score);
    return;
  }
  if (s->licence == NULL) {
    ph->excluded = g_strdup ("excluded: no licence found");
    g_print ("%s: left out, no licence found for it in %s\n", s->class_name, s->package);
    return;
  }
  g_autofree gchar *cls_dir = g_build_filename (job->out_dir, "images", s->class_name, NULL);
  if (g_mkdir_with_parents (cls_dir, 0755) != 0) {
    int e = errno;
    g_set_error (&ph->error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create %s: %s", cls_dir, g_strerror (e));
    return;
  }
  if (job->unfiltered &&
      !write_tiles (img, cls_dir, s->class_name, "u", FALSE, ph->train_ids, &ph->dropped, &ph->error))
    return;
  ph->scale = shrink_to_detail (&img, job->target, &ph->rms);
  ph->dropped = 0;
  write_tiles (img, cls_dir, s->class_name, "t", TRUE, ph->ids, &ph->dropped, &ph->error);
}

/* A previous complete run of this edition: manifest present with this header and
 * every listed tile there. */
static gboolean
already_complete (const char *out_dir, guint *n_train, guint *n_test, guint *n_photos)
{
  g_autofree gchar *manifest = g_build_filename (out_dir, "manifest.tsv", NULL);
  g_autofree gchar *mtext = NULL;
  if (!g_file_get_contents (manifest, &mtext, NULL, NULL) || !g_str_has_prefix (mtext, MANIFEST_HEADER))
    return FALSE;
  /* photos that gave tiles: column 8 (tiles) above 0 */
  *n_photos = 0;
  g_auto (GStrv) rows = g_strsplit (mtext, "\n", -1);
  for (int i = 1; rows[i] != NULL; i++) {
    g_auto (GStrv) f = g_strsplit (rows[i], "\t", -1);
    if (g_strv_length (f) >= 10 && atoi (f[7]) > 0)
      (*n_photos)++;
  }
  const char *lists[2] = { "train.txt", "test.txt" };
  guint *counts[2] = { n_train, n_test };
  for (int l = 0; l < 2; l++) {
    g_autofree gchar *path = g_build_filename (out_dir, "meta", lists[l], NULL);
    g_autofree gchar *text = NULL;
    if (!g_file_get_contents (path, &text, NULL, NULL))
      return FALSE;
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    *counts[l] = 0;
    for (int i = 0; lines[i]; i++) {
      if (lines[i][0] == '\0')
        continue;
      g_autofree gchar *file = g_strconcat (lines[i], ".jpg", NULL);
      g_autofree gchar *tile = g_build_filename (out_dir, "images", file, NULL);
      GStatBuf st;
      if (g_stat (tile, &st) != 0 || st.st_size == 0)
        return FALSE;
      (*counts[l])++;
    }
  }
  return *n_train >= MIN_TRAIN && *n_test >= MIN_TEST;
}

static int
fail (const GError *error)
{
  g_printerr ("espcn-sample-data: %s\n", error ? error->message : g_strerror (errno));
  return 1;
}

static guint64
dir_size (const char *dir)
{
  guint64 total = 0;
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *n;
  while (d != NULL && (n = g_dir_read_name (d)) != NULL) {
    g_autofree char *p = g_build_filename (dir, n, NULL);
    GStatBuf st;
    if (g_stat (p, &st) == 0 && S_ISREG (st.st_mode))
      total += st.st_size;
  }
  return total;
}

int
main (int argc, char **argv)
{
  g_autofree char *cache = NULL, *refs_dir = NULL;
  gboolean unfiltered = FALSE;
  GOptionEntry entries[] = {
    { "cache", 0, 0, G_OPTION_ARG_FILENAME, &cache, "Folder for the downloaded .deb files, reused when present [OUT_DIR/.debs]", "DIR" },
    { "refs", 0, 0, G_OPTION_ARG_FILENAME, &refs_dir, "Folder holding Set5/ and Set14/ for the contamination guard [$ESPCN_DATASETS or ../shared/datasets]", "DIR" },
    { "unfiltered", 0, 0, G_OPTION_ARG_NONE, &unfiltered, "Training tiles without the soft-source shrinking and the detail filter (to measure them; test tiles keep both)", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("OUT_DIR - a Food-101-shaped set of real photographs from Debian packages");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return fail (error);
  if (argc != 2 || argv[1][0] == '-') {
    g_printerr ("usage: %s [--cache DIR] [--refs DIR] [--unfiltered] OUT_DIR (see --help)\n", argv[0]);
    return 2;
  }
  const char *out_dir = argv[1];
  if (cache == NULL)
    cache = g_build_filename (out_dir, ".debs", NULL);
  if (refs_dir == NULL)
    refs_dir = g_strdup (g_getenv ("ESPCN_DATASETS") ? g_getenv ("ESPCN_DATASETS") : "../shared/datasets");
  gint64 t0 = g_get_monotonic_time ();
  guint n_train = 0, n_test = 0, n_photos = 0;
  if (!unfiltered && already_complete (out_dir, &n_train, &n_test, &n_photos)) {
    g_print ("%s is complete: %u photos, %u train tiles, %u test tiles (verified)\n", out_dir, n_photos, n_train,
        n_test);
    return 0;
  }
  g_autoptr (GArray) refs = load_references (refs_dir, &error);
  if (refs == NULL)
    return fail (error);

  guint64 cached_before = dir_size (cache);
  Package pkgs[G_N_ELEMENTS (packages)];
  memset (pkgs, 0, sizeof pkgs);
  for (gsize i = 0; i < G_N_ELEMENTS (packages); i++)
    if (!fetch (out_dir, cache, packages[i], &pkgs[i], &error))
      return fail (error);
  guint64 cached_after = dir_size (cache);
  g_print ("packages: %.1f MB in %s, %.1f MB of it downloaded now (%.1f s)\n", cached_after / 1e6, cache,
      (cached_after - cached_before) / 1e6, (g_get_monotonic_time () - t0) / 1e6);

  /* a rebuild starts from empty tile folders */
  g_autofree gchar *images_dir = g_build_filename (out_dir, "images", NULL);
  g_autofree gchar *manifest_path = g_build_filename (out_dir, "manifest.tsv", NULL);
  g_unlink (manifest_path);
  const char *rm_argv[] = { "rm", "-rf", images_dir, NULL };
  if (!run (rm_argv, NULL, NULL, &error))
    return fail (error);

  g_autofree gchar *src_root = g_build_filename (out_dir, ".src", NULL);
  g_autoptr (GArray) sources = g_array_new (FALSE, TRUE, sizeof (Source));
  if (!list_sources (src_root, sources, &error))
    return fail (error);
  const guint n_src = sources->len;

  /* The detail target: the median rms of the sharp sources at their own size. */
  g_autoptr (GArray) sharp_rms = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < n_src; i++) {
    const Source *s = &g_array_index (sources, Source, i);
    if (!s->sharp || s->licence == NULL)
      continue;
    g_autofree char *sha = NULL;
    g_autoptr (EspcnImage) img = load_source (src_root, s, &sha, &error);
    if (img == NULL)
      return fail (error);
    double r = espcn_image_detail (img).sharpest;
    g_array_append_val (sharp_rms, r);
  }
  double target = 0;
  {
    double *v = (double *) sharp_rms->data;
    for (guint i = 1; i < sharp_rms->len; i++)
      for (guint j = i; j > 0 && v[j - 1] > v[j]; j--) {
        double x = v[j];
        v[j] = v[j - 1];
        v[j - 1] = x;
      }
    if (sharp_rms->len > 0)
      target = v[sharp_rms->len / 2];
  }
  g_print ("detail target (median of %u sharp photographs): sharpest blocks %.2f grey levels\n", sharp_rms->len, target);

  Photo *photos = g_new0 (Photo, n_src);
  Job job = { src_root, out_dir, refs, target, unfiltered };
  GThreadPool *pool = g_thread_pool_new (process_photo, &job, MIN (2, (int) g_get_num_processors ()), TRUE,
      NULL);
  for (guint i = 0; i < n_src; i++) {
    photos[i].src = &g_array_index (sources, Source, i);
    g_thread_pool_push (pool, &photos[i], NULL);
  }
  g_thread_pool_free (pool, FALSE, TRUE);
  guint total = 0, n_excluded = 0;
  for (guint i = 0; i < n_src; i++) {
    if (photos[i].error != NULL)
      return fail (photos[i].error);
    if (photos[i].excluded != NULL)
      n_excluded++;
    else
      total += photos[i].ids->len;
  }

  /* Whole photos to test in a seeded order. */
  guint target_test = MAX (MIN_TEST, (total + 4) / 5);
  guint32 *order = g_new (guint32, n_src);
  for (guint i = 0; i < n_src; i++)
    order[i] = i;
  EspcnRng rng;
  espcn_rng_seed (&rng, SPLIT_SEED);
  espcn_rng_shuffle_u32 (&rng, order, n_src);
  n_test = 0;
  for (guint k = 0; k < n_src && n_test < target_test; k++) {
    Photo *ph = &photos[order[k]];
    if (ph->ids->len > 0 && total - n_test - ph->ids->len >= MIN_TRAIN) {
      ph->test = TRUE;
      n_test += ph->ids->len;
    }
  }
  g_free (order);
  n_train = 0;
  for (guint i = 0; i < n_src; i++)
    if (!photos[i].test && photos[i].excluded == NULL)
      n_train += photos[i].train_ids->len;
  if (n_test < MIN_TEST || n_train < MIN_TRAIN) {
    g_printerr ("espcn-sample-data: only %u train / %u test tiles (need %d / %d)\n", n_train, n_test, MIN_TRAIN,
        MIN_TEST);
    return 1;
  }

  GString *train = g_string_new (NULL), *test = g_string_new (NULL);
  GString *manifest = g_string_new (MANIFEST_HEADER);
  guint n_used = 0, n_dropped = 0;
  for (guint i = 0; i < n_src; i++) {
    Photo *ph = &photos[i];
    GPtrArray *ids = ph->test ? ph->ids : ph->train_ids;
    for (guint t = 0; ph->excluded == NULL && t < ids->len; t++)
      g_string_append_printf (ph->test ? test : train, "%s\n", (const char *) g_ptr_array_index (ids, t));
    const char *version = NULL;
    for (gsize p = 0; p < G_N_ELEMENTS (packages); p++)
      if (strcmp (packages[p], ph->src->package) == 0)
        version = pkgs[p].version;
    g_autofree char *where = ph->src->entry ? g_strconcat (ph->src->path, ":", ph->src->entry, NULL)
                                            : g_strdup (ph->src->path);
    const char *split = ph->excluded ? ph->excluded : ph->test ? "test" : "train";
    g_string_append_printf (manifest, "%s\t%s\t%s\t%s\t%s\t%.3f\t%.2f\t%u\t%u\t%s\n", ph->src->package, version, where,
        ph->sha256, ph->src->licence ? ph->src->licence : "unknown", ph->excluded ? 0 : ph->scale,
        ph->excluded ? 0 : ph->rms, ph->excluded ? 0 : ids->len, ph->dropped, split);
    if (ph->excluded == NULL && ids->len > 0)
      n_used++;
    n_dropped += ph->dropped;
  }
  g_autofree gchar *meta = g_build_filename (out_dir, "meta", NULL);
  g_autofree gchar *train_path = g_build_filename (meta, "train.txt", NULL);
  g_autofree gchar *test_path = g_build_filename (meta, "test.txt", NULL);
  if (g_mkdir_with_parents (meta, 0755) != 0 || !write_text (train_path, train, &error) ||
      !write_text (test_path, test, &error) || !write_text (manifest_path, manifest, &error))
    return fail (error);
  g_print ("%s: %u photos used (%u left out), %u train / %u test tiles, %u tiles dropped as flat or blurred (%.1f s)\n",
      out_dir, n_used, n_excluded, n_train, n_test, n_dropped, (g_get_monotonic_time () - t0) / 1e6);

  for (guint i = 0; i < n_src; i++) {
    g_free (photos[i].sha256);
    g_free (photos[i].excluded);
    g_clear_error (&photos[i].error);
    g_ptr_array_unref (photos[i].ids);
    g_ptr_array_unref (photos[i].train_ids);
    Source *s = &g_array_index (sources, Source, i);
    g_free (s->path);
    g_free (s->entry);
    g_free (s->class_name);
    g_free (s->licence);
  }
  g_free (photos);
  for (gsize p = 0; p < G_N_ELEMENTS (packages); p++) {
    g_free (pkgs[p].deb);
    g_free (pkgs[p].version);
  }
  g_string_free (train, TRUE);
  g_string_free (test, TRUE);
  g_string_free (manifest, TRUE);
  return 0;
}
