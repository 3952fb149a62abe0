<?cs # header.cs - the top of every portal page. Every var: is HTML-escaped
     (Config.VarEscapeMode = html is forced in code); never use uvar:. ?><!DOCTYPE html>
<html lang="<?cs var:Page.Lang ?>">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title><?cs if:Page.Title ?><?cs var:Page.Title ?> - <?cs /if ?><?cs var:Lab.Name ?></title>
<link rel="stylesheet" href="/static/portal.css">
<style nonce="<?cs var:Page.Nonce ?>">:root { --brand: <?cs var:Lab.Colour ?>; }</style>
</head>
<body>
<a class="skip" href="#main"><?cs var:Text.SkipToContent ?></a>
<header class="brand">
<div class="brand-inner">
<?cs if:Lab.Logo ?><img class="logo" src="<?cs var:Lab.Logo ?>" alt=""><?cs /if ?>
<span class="lab"><?cs var:Lab.Name ?></span>
<?cs if:Page.Path ?><a class="lang" href="<?cs var:Page.Path ?>?lang=<?cs var:Page.OtherLang ?>" hreflang="<?cs var:Page.OtherLang ?>" lang="<?cs var:Page.OtherLang ?>"><?cs var:Text.Switch ?></a><?cs /if ?>
</div>
</header>
<main id="main">
